// Placeholder: written in the foundation issue (#2).
