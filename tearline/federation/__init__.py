"""Federation: sovereign nodes exchange sealed units over TAXII 2.1, push first and pull as fallback."""
