package barista.server;
