"""One emulator module per vendor; each exports `router`."""
