"""Local servers that speak third parties' APIs (LOX24, ...) for the tests; never shipped in the wheel."""
