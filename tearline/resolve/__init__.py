"""Entity resolution across partners, built for Spanish and Latin-American names.

A standardisation layer (`names`, `nicknames`, `phonetic`, `dates`, `records`) parses each record
into given names, paternal and maternal surnames, particles and aliases; a Fellegi-Sunter model
on Splink's DuckDB backend (`comparisons`, `model`) compares them component by component, trained
by EM with term-frequency adjustments; `batch` resolves whole files and `mapping` reads them.
"""
