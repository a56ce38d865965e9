"""The settings web UI: sign-in, API keys, connected accounts, posts and slots, server-rendered.

Routes here are thin: they read the form, check the session and its CSRF token, call a
service, and render a template. The `/v2` API never looks at the session cookie.
"""
