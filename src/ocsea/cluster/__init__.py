"""Batch commands on a Dask cluster (``--dask``, issue 20): the option (``spec``), the client or
local cluster (``connect``), splitting the input on line starts (``ranges``), the function the
workers run (``work``) and submitting parts with their results written in input order
(``submit``). Dask is an optional extra (``pip install 'ocsea[cluster]'``): nothing here imports
it until a command is given ``--dask``, so the plain commands start as fast as before."""
