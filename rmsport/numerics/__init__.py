"""The numerics: a numpy reference of each update rule, verification verdicts and comparisons."""
