"""Privacy migration 0001 as it was before its raw SQL was split into one statement per RunSQL item.

Schemas migrated before the split ran this text, as one command. Kept verbatim (from the commit that
introduced the migration) so tests can migrate a schema the old way and compare it with one migrated the
new way, and so the Citus rule can show it would have refused it.
"""

APPEND_ONLY_SQL = """
CREATE FUNCTION privacy_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('termino.privacy_events_purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'privacy_personaldataevent is append-only';
    END IF;
    IF (NEW.id, NEW.actor_label, NEW.customer_id, NEW.action, NEW.details, NEW.ip, NEW.created_at)
            IS DISTINCT FROM
       (OLD.id, OLD.actor_label, OLD.customer_id, OLD.action, OLD.details, OLD.ip, OLD.created_at)
       OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id) THEN
        RAISE EXCEPTION 'privacy_personaldataevent is append-only';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER privacy_event_append_only BEFORE UPDATE OR DELETE ON privacy_personaldataevent
    FOR EACH ROW EXECUTE FUNCTION privacy_event_append_only();
"""
APPEND_ONLY_REVERSE_SQL = """
DROP TRIGGER privacy_event_append_only ON privacy_personaldataevent;
DROP FUNCTION privacy_event_append_only();
"""
