"""The proxy: unmatched calls go to a real API (`serve --upstream`), and answers become
saved examples (`postmock record`, `postmock logs --save`).

Modules: `url` (light checks the CLI imports), `forward` (the aiohttp client side),
`save` (calls → examples in a collection file), `record` (the recording proxy).
"""
