package barista.engine;
