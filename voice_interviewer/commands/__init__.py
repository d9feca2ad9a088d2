"""CLI sub-commands: each module here defines ``register(subparsers)`` for one area.

Kept one module per area so that adding a command never touches another's code.
"""
