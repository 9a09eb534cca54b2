package graphfold.peer.store;

/** Which end of its relations an atom is: their source (out) or their target (in). */
public enum Direction {
  OUT((byte) 'o'),
  IN((byte) 'i');

  final byte tag;

  Direction(byte tag) {
    this.tag = tag;
  }
}
