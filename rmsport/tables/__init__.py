"""The API tables: what each framework's classes accept and compute, as data."""
