"""The `vigil` command: one module per command group, each translating arguments into calls on the
app object's services.
"""
