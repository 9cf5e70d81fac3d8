"""Tests of the Thor API client, against the simulator over loopback HTTP."""
