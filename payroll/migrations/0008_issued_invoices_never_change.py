"""PostgreSQL holds PAY_RULES §7: an issued invoice never changes and is never deleted.

Triggers refuse (as an integrity violation) any DELETE of an invoice or an invoice line,
any UPDATE of a line, and any UPDATE of an invoice's figures, parties, number or dates.
What may change is what happens to an invoice after issue: its status with the paid date,
payment reference or void reason, and its stored PDF and that PDF's hash. A TRUNCATE
(tests, a scratch database) is not a row deletion and still works.
"""

from django.db import migrations

FROZEN_COLUMNS = (
    "id", "number", "year", "sequence", "timesheet_id", "worker_id", "period", "issued_on",
    "due_on", "currency", "subtotal", "tax_rate", "tax", "total", "company", "contractor",
    "created_at",
)  # fmt: skip

CREATE = f"""
CREATE FUNCTION payroll_issued_invoice_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'An issued invoice is never deleted (%).', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF ({", ".join(f"NEW.{c}" for c in FROZEN_COLUMNS)})
       IS DISTINCT FROM ({", ".join(f"OLD.{c}" for c in FROZEN_COLUMNS)}) THEN
        RAISE EXCEPTION 'An issued invoice never changes (%): only its status, payment, void reason and PDF do.',
            OLD.number USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payroll_issued_invoice_frozen BEFORE UPDATE OR DELETE ON payroll_invoice
    FOR EACH ROW EXECUTE FUNCTION payroll_issued_invoice_frozen();

CREATE FUNCTION payroll_invoice_line_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'The lines of an issued invoice never change.'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER payroll_invoice_line_frozen BEFORE UPDATE OR DELETE ON payroll_invoiceline
    FOR EACH ROW EXECUTE FUNCTION payroll_invoice_line_frozen();
"""

DROP = """
DROP TRIGGER IF EXISTS payroll_invoice_line_frozen ON payroll_invoiceline;
DROP FUNCTION IF EXISTS payroll_invoice_line_frozen();
DROP TRIGGER IF EXISTS payroll_issued_invoice_frozen ON payroll_invoice;
DROP FUNCTION IF EXISTS payroll_issued_invoice_frozen();
"""


def create_triggers(apps, schema_editor):
    schema_editor.execute(CREATE, params=None)  # no placeholders: RAISE uses %


def drop_triggers(apps, schema_editor):
    schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("payroll", "0007_redundant_indexes")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
