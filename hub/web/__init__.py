"""The top layer: every page, URL table, webhook intake, form, middleware and template tag.

Everything here turns a request into calls on the layers below (recipes, engine, connections,
accounts, system) and their answers into a response; nothing below imports it.
"""
