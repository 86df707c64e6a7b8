"""Side-by-side benchmarks of vigil against Supervisor 4.3.0.

Every workload runs against both daemons in the same run, alternating them so that drift of
the machine (other load, thermal state, page cache) falls on both sides alike. The figures are
for humans: the benchmark never fails a build, it prints a table and writes JSON.
"""
