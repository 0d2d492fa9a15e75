from django.dispatch import Signal

# Sent once when a connection stops working (a refresh was refused, the token was revoked).
# Receivers get ``connection``; the engine pauses the recipes that use it.
connection_broken = Signal()
