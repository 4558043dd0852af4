"""The store: the only layer that builds queries. Writes validate; reads filter inside SQL."""
