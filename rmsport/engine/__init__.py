"""The rewrite engine: find calls by binding (``analysis``), plan them (``plan``), build them with libcst
(``rewrite``), keep imports right (``imports``), and splice the results back (``convert``)."""
