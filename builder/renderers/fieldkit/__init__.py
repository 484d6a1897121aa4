"""The field kit: handbooks, pocket cards and lecture slides, one renderer module each."""
