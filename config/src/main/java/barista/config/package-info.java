package barista.config;
