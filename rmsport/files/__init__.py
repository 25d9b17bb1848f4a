"""File handling: reading and atomic writing, walking trees, notebooks."""
