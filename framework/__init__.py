"""kakari: declarative RPA for the back offices of Japanese city halls."""
