select {{ include "m" }}
