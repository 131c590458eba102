"""A believable destination made up from scratch: its partners, its visitors, their files.

The same generator seeds `cordee demo`, feeds the tests, and builds the benchmarks' large
files, and it keeps the ground truth of who is who so that identity resolution can be
measured against it.
"""
