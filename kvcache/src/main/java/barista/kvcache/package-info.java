package barista.kvcache;
