"""Language-model providers behind one Protocol, chosen by configuration."""
