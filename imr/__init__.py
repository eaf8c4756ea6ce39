"""The application: the `imr` command (CLI), the batch engine, the web service, reports and
the training and evaluation commands. It builds on nlp/ < models/ < training/ and nothing imports it."""
