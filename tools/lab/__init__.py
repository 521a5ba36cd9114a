"""The one-command lab: the example site rolled out for real onto network namespaces, probed, reported."""
