select {{ include "r" }}
