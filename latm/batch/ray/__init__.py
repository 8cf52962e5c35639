"""The Ray engine (``pip install 'latm[ray]'``): ``engine`` runs Ray Data ``map_batches`` on an actor
pool (each actor a warm sandbox pool and a private cache restored from ``snapshot``), ``limits`` holds
the cluster-wide rate limit per model endpoint and the job's knobs, and ``supervision`` runs a file's
job from the driver in a forked child, so a cluster that goes away is said plainly. Nothing here is
imported unless the Ray engine is asked for.
"""
