"""Address spaces, VMARs, mappings and VMO pages; no handles or rights here."""
