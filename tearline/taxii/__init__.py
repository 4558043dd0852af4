"""TAXII 2.1 server of a node: discovery, API root, collections, objects, manifest, versions, status."""
