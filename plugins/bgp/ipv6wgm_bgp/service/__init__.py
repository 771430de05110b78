"""Domain code between the rows and the BIRD layer: desired tree, BIRD ownership, state."""
