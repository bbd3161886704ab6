"""Run a reference library's own test files against mlnotes' classes."""
