package graphfold.peer.store;

/** A live relation seen from one of its ends: the relation's uid, its type and the atom at its other end. */
public record Edge(String relation, String type, String other) {}
