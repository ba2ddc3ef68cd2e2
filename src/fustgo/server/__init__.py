"""`fustgo serve`: the REST API over the metadata store and the runs (design doc §2.2, §7).

`app.create_app` builds the FastAPI application; `api/` holds one router per resource and
`api/schemas/` their request and response models; `errors` is the one table from errors to
HTTP statuses; `runs` runs jobs in the process; `configs` validates job YAML as the CLI does.
"""
