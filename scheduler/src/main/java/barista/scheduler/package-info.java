package barista.scheduler;
