"""The application: the command line, the daemon (scheduler, signals, reload, systemd),
``status`` formatting and the offline demo. Only this package reads the environment and
the wall clock, configures logging or exits."""
