-- wrk: the metrics route.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer bench"
