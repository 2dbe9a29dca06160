"""Sending SMS: segment counting, the gateways (the only door to the network for SMS), and a fake
LOX24 server for tests. Nothing here knows about businesses or the platform."""
