package graphfold.peer.fold;

import graphfold.Assign;
import graphfold.Assigned;
import graphfold.AtomKind;
import graphfold.CreateAttribute;
import graphfold.CreateEntity;
import graphfold.CreateRelation;
import graphfold.Created;
import graphfold.GraphDiff;
import graphfold.GraphTransaction;
import graphfold.Merge;
import graphfold.Ref;
import graphfold.SetField;
import graphfold.SourcePosition;
import graphfold.Terminate;
import graphfold.Terminated;
import graphfold.Value;
import graphfold.peer.store.AtomState;
import graphfold.peer.store.Direction;
import graphfold.peer.store.Edge;
import graphfold.peer.store.GraphStores;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * graphfold's fold (processors/engine/fold.ts) over Kafka Streams stores: validates one transaction
 * against its graph's latest state and, when valid, yields the diff that makes the next slice and
 * writes the new state. All or nothing: nothing is written until the whole transaction is known to
 * be valid, so a refusal leaves the stores as they were.
 *
 * <p>Covered as graphfold does it: every instruction, local names, derived uids, liveness and
 * existence checks, assignment types and conflicts, SetField find-or-create, cascading
 * termination, txId dedupe, expectSlice, the instruction limit. Not covered: graph schemas.
 *
 * <p>Reused for every record of one processor: {@link #run} resets it.
 */
public final class Fold {
  /** What {@link #run} made of a transaction. */
  public enum Outcome {
    /** A new slice: call {@link #persist}, then publish {@link #diff}. */
    APPLIED,
    /** Every instruction was a no-op: no slice; {@link #persist} remembers the txId. */
    UNCHANGED,
    /** The txId was applied to this graph before: skipped. */
    DUPLICATE,
    /** Refused as a whole: see {@link #refusal}; nothing is written. */
    REFUSED
  }

  private final GraphStores stores;
  private final Uids uids = new Uids();
  private final int maxInstructions;

  // Per transaction; cleared by run().
  private final Map<String, String> names = new HashMap<>();
  private final Map<String, Working> atoms = new LinkedHashMap<>();
  private final Map<String, List<Edge>> newEdges = new HashMap<>();
  private final List<Object> created = new ArrayList<>();
  private final List<Working> assignOrder = new ArrayList<>();
  private final List<Object> terminated = new ArrayList<>();
  private GraphTransaction tx;
  private String graph;
  private long head;
  private int index;
  private GraphDiff diff;
  private Refusal refusal;

  /** One atom as this transaction sees it: its state before, and what the transaction does to it. */
  private static final class Working {
    final String uid;
    final AtomKind kind;
    final String type;
    final String source;
    final String target;
    /** The atom before this transaction; null when this transaction creates it. */
    final AtomState before;
    /** The first instruction, other than Terminate, that uses this atom; -1 if none. */
    int usedBy = -1;
    Value assigned;
    int assignedBy;
    /** The instruction that ended this atom; -1 while it lives. */
    int endedBy = -1;
    String cascadeOf;

    Working(String uid, AtomKind kind, String type, String source, String target, AtomState before) {
      this.uid = uid;
      this.kind = kind;
      this.type = type;
      this.source = source;
      this.target = target;
      this.before = before;
    }

    boolean ended() {
      return endedBy >= 0;
    }

    boolean alive() {
      return endedBy < 0 && (before == null || before.getTerminated() == null);
    }
  }

  public Fold(GraphStores stores, int maxInstructions) {
    this.stores = stores;
    this.maxInstructions = maxInstructions;
  }

  /**
   * Folds {@code tx}, read from the record keyed {@code key} at {@code source}, whose timestamp is
   * {@code recordTimeMicros}. Reads the stores; writes nothing.
   */
  public Outcome run(String key, GraphTransaction tx, SourcePosition source, long recordTimeMicros) {
    reset(tx);
    try {
      checkShape(key);
      stores.use(graph);
      if (stores.seen(tx.getTxId())) return Outcome.DUPLICATE;
      head = stores.head();
      Long expect = tx.getExpectSlice();
      if (expect != null && expect != head) {
        refuse("STALE_SLICE", "transaction expects graph '" + graph + "' at slice " + expect + ", but it is at slice " + head);
      }
      List<Object> instructions = tx.getInstructions();
      for (index = 0; index < instructions.size(); index++) apply(instructions.get(index));
      index = -1;
      return result(source, recordTimeMicros);
    } catch (Refusal r) {
      refusal = r;
      return Outcome.REFUSED;
    }
  }

  /** The diff of the last {@link Outcome#APPLIED} run. */
  public GraphDiff diff() {
    return diff;
  }

  /** Why the last {@link Outcome#REFUSED} run refused. */
  public Refusal refusal() {
    return refusal;
  }

  /**
   * Writes what the last {@link Outcome#APPLIED} (or {@link Outcome#UNCHANGED}) run did: new and
   * changed atoms, created and ended relations at both ends, the head and the txId.
   */
  public void persist() {
    if (diff == null) {
      stores.putTx(tx.getTxId(), 0);
      return;
    }
    long slice = diff.getSlice();
    for (Working atom : atoms.values()) {
      boolean reassigned = atom.assigned != null && (atom.before == null || atom.before.getValue() == null || !Values.same(atom.before.getValue(), atom.assigned));
      if (atom.before == null) {
        AtomState state = new AtomState(atom.kind, atom.type, slice, null, atom.source, atom.target, atom.assigned, reassigned ? slice : null);
        stores.putAtom(atom.uid, state);
        if (atom.kind == AtomKind.relation) {
          stores.putEdge(atom.source, Direction.OUT, atom.type, atom.uid, atom.target);
          stores.putEdge(atom.target, Direction.IN, atom.type, atom.uid, atom.source);
        }
      } else if (reassigned || atom.ended()) {
        AtomState state = atom.before;
        if (reassigned) {
          state.setValue(atom.assigned);
          state.setAssigned(slice);
        }
        if (atom.ended()) {
          state.setTerminated(slice);
          if (atom.kind == AtomKind.relation) {
            stores.deleteEdge(atom.source, Direction.OUT, atom.type, atom.uid);
            stores.deleteEdge(atom.target, Direction.IN, atom.type, atom.uid);
          }
        }
        stores.putAtom(atom.uid, state);
      }
    }
    stores.putHead(slice);
    stores.putTx(tx.getTxId(), slice);
  }

  private void reset(GraphTransaction next) {
    names.clear();
    atoms.clear();
    newEdges.clear();
    created.clear();
    assignOrder.clear();
    terminated.clear();
    tx = next;
    graph = next.getGraph();
    head = 0;
    index = -1;
    diff = null;
    refusal = null;
  }

  /** What graphfold checks while decoding (processors/codec) and before folding. */
  private void checkShape(String key) {
    List<Object> instructions = tx.getInstructions();
    for (int i = 0; i < instructions.size(); i++) {
      Object instruction = instructions.get(i);
      if (instruction instanceof CreateRelation r) {
        checkRef(r.getSource(), "source", i);
        checkRef(r.getTarget(), "target", i);
      } else if (instruction instanceof Assign a) {
        checkRef(a.getTarget(), "target", i);
      } else if (instruction instanceof SetField s) {
        checkRef(s.getSubject(), "subject", i);
      } else if (instruction instanceof Terminate t) {
        checkRef(t.getTarget(), "target", i);
      } else if (instruction instanceof Merge m) {
        if (m.getSource() != null) checkRef(m.getSource(), "source", i);
        if (m.getTarget() != null) checkRef(m.getTarget(), "target", i);
      }
    }
    checkRange(tx.getTime() == null ? null : Values.micros(tx.getTime()), "time");
    checkRange(tx.getExpectSlice(), "expectSlice");
    if (key == null) refuse("INVALID_INSTRUCTION", "record has no key; key transactions by graph id ('" + graph + "') so each graph stays on one partition");
    if (!key.equals(graph)) {
      refuse("INVALID_INSTRUCTION", "record key '" + key + "' differs from the transaction's graph '" + graph + "'; the key decides the partition, so it must be the graph id");
    }
    if (graph.isEmpty() || graph.indexOf('\0') >= 0) refuse("INVALID_INSTRUCTION", "graph id must be non-empty and free of NUL characters");
    if (tx.getTxId().isEmpty()) refuse("INVALID_INSTRUCTION", "txId must be non-empty");
    if (instructions.size() > maxInstructions) {
      refuse("TOO_LARGE", "transaction holds " + instructions.size() + " instructions; the limit is " + maxInstructions + ": split it");
    }
  }

  private void checkRef(Ref ref, String role, int at) {
    if ((ref.getUid() == null) != (ref.getRef() == null)) return;
    throw new Refusal("INVALID_INSTRUCTION", "instruction " + at + ": " + role + " must give exactly one of uid and ref (got " + (ref.getUid() == null ? "neither" : "both") + ")");
  }

  private void checkRange(Long value, String field) {
    if (value != null && (value < 0 || value > (1L << 53) - 1)) {
      refuse("INVALID_INSTRUCTION", field + " " + value + " is out of range (0 .. 2^53-1)");
    }
  }

  private void apply(Object instruction) {
    if (instruction instanceof CreateEntity e) {
      checkName(e.getType(), "entity type");
      create(newUid(e.getRef(), e.getUid()), AtomKind.entity, e.getType(), e.getRef(), null, null);
    } else if (instruction instanceof CreateAttribute a) {
      checkValueType(a.getValueType());
      Working atom = create(newUid(a.getRef(), a.getUid()), AtomKind.attribute, a.getValueType(), a.getRef(), null, null);
      if (a.getValue() != null) assign(atom, a.getValue());
    } else if (instruction instanceof CreateRelation r) {
      checkName(r.getType(), "relation type");
      String uid = newUid(r.getRef(), r.getUid());
      Working source = live(r.getSource(), "source");
      Working target = live(r.getTarget(), "target");
      create(uid, AtomKind.relation, r.getType(), r.getRef(), source.uid, target.uid);
    } else if (instruction instanceof Assign a) {
      assign(live(a.getTarget(), "target"), a.getValue());
    } else if (instruction instanceof SetField s) {
      setField(s.getSubject(), s.getRelation(), s.getValue());
    } else if (instruction instanceof Terminate t) {
      terminate(t.getTarget());
    } else if (instruction instanceof Merge m) {
      merge(m);
    } else {
      throw new IllegalStateException("not a GraphTransaction instruction: " + instruction);
    }
  }

  // --- instructions ------------------------------------------------------------------------

  private Working create(String uid, AtomKind kind, String type, String ref, String source, String target) {
    if (ref != null) checkUnbound(ref);
    Working existing = find(uid);
    if (existing != null) {
      String when = existing.before == null ? "earlier in this transaction" : "at slice " + existing.before.getCreated();
      refuse("CONFLICT", "uid " + uid + " already exists (" + article(existing.kind) + " " + existing.kind + " created " + when + "); a uid cannot be created twice");
    }
    Working atom = new Working(uid, kind, type, source, target, null);
    atom.usedBy = index;
    atoms.put(uid, atom);
    if (ref != null) names.put(ref, uid);
    created.add(new Created(uid, kind, type, source, target));
    if (kind == AtomKind.relation) {
      addEdge(Direction.OUT, source, new Edge(uid, type, target));
      addEdge(Direction.IN, target, new Edge(uid, type, source));
    }
    return atom;
  }

  private void assign(Working atom, Value value) {
    if (atom.kind != AtomKind.attribute) {
      refuse("TYPE_MISMATCH", "cannot assign a value to " + atom.uid + ": it is " + article(atom.kind) + " " + atom.kind + " (" + atom.type + "), not an attribute");
    }
    String problem = Values.problem(value);
    if (problem != null) refuse("INVALID_INSTRUCTION", problem);
    String valueType = Values.typeOf(value);
    if (!valueType.equals(atom.type)) {
      refuse("TYPE_MISMATCH", "attribute " + atom.uid + " holds " + atom.type + " values; got a " + valueType + " value " + Values.show(value));
    }
    if (atom.assigned != null) {
      if (!Values.same(atom.assigned, value)) {
        refuse("CONFLICT", "attribute " + atom.uid + " is assigned twice with different values (" + Values.show(atom.assigned) + " by instruction " + atom.assignedBy + ", " + Values.show(value) + " here)");
      }
      return;
    }
    atom.assigned = value;
    atom.assignedBy = index;
    assignOrder.add(atom);
  }

  private void setField(Ref subjectRef, String relation, Value value) {
    checkName(relation, "relation type");
    Working subject = live(subjectRef, "subject");
    List<Edge> fields = edgesOf(subject.uid, Direction.OUT, relation);
    if (fields.size() > 1) {
      refuse("CONFLICT", "atom " + subject.uid + " has " + fields.size() + " live '" + relation + "' relations; SetField needs at most one (use Assign on the attribute)");
    }
    if (fields.isEmpty()) {
      Working attribute = create(uids.derive(graph, tx.getTxId(), "index:" + index + "/attribute"), AtomKind.attribute, Values.typeOf(value), null, null, null);
      create(uids.derive(graph, tx.getTxId(), "index:" + index + "/relation"), AtomKind.relation, relation, null, subject.uid, attribute.uid);
      assign(attribute, value);
      return;
    }
    assign(liveUid(fields.get(0).other(), "field attribute"), value);
  }

  private void terminate(Ref ref) {
    Working atom = resolve(ref, "target");
    if (atom.ended() || !atom.alive()) return;
    if (atom.usedBy >= 0) refuse("CONFLICT", "cannot terminate " + atom.uid + ": instruction " + atom.usedBy + " of this transaction uses it");
    end(atom, null);
    ArrayDeque<Working> queue = new ArrayDeque<>();
    queue.add(atom);
    for (Working next = queue.poll(); next != null; next = queue.poll()) {
      for (Direction direction : Direction.values()) {
        for (Edge edge : edgesOf(next.uid, direction, null)) {
          Working relation = resolveUid(edge.relation(), "relation");
          if (relation.ended()) continue;
          if (relation.usedBy >= 0) {
            refuse("CONFLICT", "terminating " + atom.uid + " would also end relation " + relation.uid + ", which instruction " + relation.usedBy + " of this transaction uses");
          }
          end(relation, atom.uid);
          queue.add(relation);
        }
      }
    }
  }

  private void merge(Merge m) {
    String uid = m.getUid();
    AtomKind kind = m.getKind();
    String type = m.getType();
    checkUid(uid);
    if (kind == AtomKind.attribute) checkValueType(type);
    else checkName(type, kind + " type");
    boolean hasEnds = m.getSource() != null || m.getTarget() != null;
    if (kind == AtomKind.relation ? m.getSource() == null || m.getTarget() == null : hasEnds) {
      refuse("INVALID_INSTRUCTION", kind == AtomKind.relation ? "Merge of a relation needs both source and target" : "Merge of " + article(kind) + " " + kind + " takes no source or target");
    }
    if (m.getValue() != null && kind != AtomKind.attribute) refuse("INVALID_INSTRUCTION", "Merge of " + article(kind) + " " + kind + " takes no value");

    Working existing = find(uid);
    if (existing != null) {
      String mismatch = null;
      if (existing.kind != kind || !existing.type.equals(type)) mismatch = "it is " + article(existing.kind) + " " + existing.kind + " (" + existing.type + ")";
      else if (m.getSource() != null && !resolve(m.getSource(), "source").uid.equals(existing.source)) mismatch = "its source is " + existing.source;
      else if (m.getTarget() != null && !resolve(m.getTarget(), "target").uid.equals(existing.target)) mismatch = "its target is " + existing.target;
      if (mismatch != null) refuse("CONFLICT", "Merge of " + existing.uid + " as " + kind + " " + type + " conflicts with the existing atom: " + mismatch);
      return;
    }
    if (m.getSource() != null && m.getTarget() != null) {
      Working source = live(m.getSource(), "source");
      Working target = live(m.getTarget(), "target");
      create(uid, AtomKind.relation, type, null, source.uid, target.uid);
      return;
    }
    Working atom = create(uid, kind, type, null, null, null);
    if (m.getValue() != null) assign(atom, m.getValue());
  }

  // --- atoms and edges ---------------------------------------------------------------------

  /** The atom with this uid, created before or in this transaction, live or not; null if none. */
  private Working find(String uid) {
    Working known = atoms.get(uid);
    if (known != null) return known;
    AtomState before = stores.atom(uid);
    if (before == null) return null;
    Working atom = new Working(uid, before.getKind(), before.getType(), before.getSource(), before.getTarget(), before);
    atoms.put(uid, atom);
    return atom;
  }

  private Working resolve(Ref ref, String role) {
    if (ref.getRef() != null) {
      String uid = names.get(ref.getRef());
      if (uid == null) refuse("NOT_FOUND", role + " '" + ref.getRef() + "' is not a local name bound earlier in this transaction");
      return atoms.get(uid);
    }
    return resolveUid(ref.getUid(), role);
  }

  private Working resolveUid(String uid, String role) {
    checkUid(uid);
    Working atom = find(uid);
    if (atom == null) refuse("NOT_FOUND", role + " " + uid + " does not exist in graph '" + graph + "'");
    return atom;
  }

  /** Resolves a ref to an atom alive at this point of the transaction, and marks it used. */
  private Working live(Ref ref, String role) {
    return markLive(resolve(ref, role), role);
  }

  private Working liveUid(String uid, String role) {
    return markLive(resolveUid(uid, role), role);
  }

  private Working markLive(Working atom, String role) {
    if (atom.ended()) {
      String how = atom.cascadeOf == null ? "" : " (its end " + atom.cascadeOf + " was terminated)";
      refuse("CONFLICT", role + " " + atom.uid + " was terminated by instruction " + atom.endedBy + " of this transaction" + how);
    }
    if (!atom.alive()) refuse("NOT_FOUND", role + " " + atom.uid + " was terminated at slice " + atom.before.getTerminated());
    if (atom.usedBy < 0) atom.usedBy = index;
    return atom;
  }

  private void end(Working atom, String cascadeOf) {
    atom.endedBy = index;
    atom.cascadeOf = cascadeOf;
    terminated.add(new Terminated(atom.uid, cascadeOf != null, atom.kind, atom.type));
  }

  /** The relations out of (or into) an atom that are live at this point of the transaction, of one type or of all. */
  private List<Edge> edgesOf(String uid, Direction direction, String type) {
    Working atom = atoms.get(uid);
    List<Edge> live = new ArrayList<>();
    if (atom != null && atom.before != null) {
      for (Edge edge : stores.edges(uid, direction, type)) {
        if (isLiveHere(edge)) live.add(edge);
      }
    }
    List<Edge> added = newEdges.get(edgeListKey(direction, uid));
    if (added != null) {
      for (Edge edge : added) {
        if ((type == null || type.equals(edge.type())) && isLiveHere(edge)) live.add(edge);
      }
    }
    return live;
  }

  private boolean isLiveHere(Edge edge) {
    Working relation = atoms.get(edge.relation());
    return relation == null || !relation.ended();
  }

  private void addEdge(Direction direction, String uid, Edge edge) {
    newEdges.computeIfAbsent(edgeListKey(direction, uid), k -> new ArrayList<>(2)).add(edge);
  }

  private static String edgeListKey(Direction direction, String uid) {
    return direction == Direction.OUT ? "out:" + uid : "in:" + uid;
  }

  private String newUid(String ref, String uid) {
    if (uid != null) {
      checkUid(uid);
      return uid;
    }
    return uids.derive(graph, tx.getTxId(), ref == null ? "index:" + index : "ref:" + ref);
  }

  // --- checks and the result ---------------------------------------------------------------

  private void checkUnbound(String ref) {
    if (ref.isEmpty()) refuse("INVALID_INSTRUCTION", "a local name must be non-empty");
    if (names.containsKey(ref)) refuse("INVALID_INSTRUCTION", "local name '" + ref + "' is bound twice in this transaction");
  }

  private void checkUid(String uid) {
    if (!Uids.isUid(uid)) refuse("INVALID_INSTRUCTION", "'" + uid + "' is not a uid (32 lowercase hex characters)");
  }

  private void checkName(String name, String what) {
    if (!Names.isName(name)) refuse("INVALID_INSTRUCTION", what + " '" + name + "' is not a valid name (letters, digits, _ . -; not starting with a digit)");
  }

  private void checkValueType(String valueType) {
    if (!Names.isValueType(valueType)) {
      refuse("INVALID_INSTRUCTION", "'" + valueType + "' is not a value type (String, Int, Float, Bool, Time, Bytes, Enum:<Name>, Quantity:<unit>)");
    }
  }

  private void refuse(String code, String message) {
    String at = index >= 0 ? "instruction " + index + " (" + tx.getInstructions().get(index).getClass().getSimpleName() + "): " : "";
    throw new Refusal(code, at + message);
  }

  private Outcome result(SourcePosition source, long recordTimeMicros) {
    List<Object> changes = new ArrayList<>(created.size() + assignOrder.size() + terminated.size());
    changes.addAll(created);
    for (Working atom : assignOrder) {
      Value previous = atom.before == null ? null : atom.before.getValue();
      if (previous != null && Values.same(previous, atom.assigned)) continue;
      changes.add(new Assigned(atom.uid, previous, atom.assigned));
    }
    changes.addAll(terminated);
    if (changes.isEmpty()) return Outcome.UNCHANGED;
    long time = tx.getTime() != null ? Values.micros(tx.getTime()) : recordTimeMicros;
    diff = new GraphDiff(graph, head + 1, tx.getTxId(), Values.instant(time), source, changes);
    return Outcome.APPLIED;
  }

  private static String article(AtomKind kind) {
    return kind == AtomKind.attribute || kind == AtomKind.entity ? "an" : "a";
  }
}
