"""Channels: how questions reach a person and answers come back (text, websocket, desktop)."""
