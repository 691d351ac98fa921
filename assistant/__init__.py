"""sesam's middle layer: loads an index, retrieves, composes cited answers and serves HTTP."""
