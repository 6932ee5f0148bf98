"""The classroom host: one room of a lesson served to browsers (docs/classroom-protocol.md)."""
