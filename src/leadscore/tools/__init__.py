"""Tools around the product: the benchmark (`python -m leadscore.tools.bench`), the SQL portability
lint (`python -m leadscore.tools.portability`) and the warehouse rotation (`python -m leadscore.tools.rotate`)."""
