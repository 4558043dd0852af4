"""The `tearline` command line."""
