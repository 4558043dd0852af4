"""tearline: marked counter-narcotics intelligence, shared only as the markings allow."""

__version__ = "0.1.0"
