"""Data: what the secmaster holds, a price preview, and importing CSV, Databento or symbology
files (the same as ``python -m tradecore data`` and ``import csv|dbn|symbology``)."""

import io
from pathlib import Path

import streamlit as st

from tradecore import paths
from tradecore.models import BarPeriod
from tradecore.secmaster import (
    build_sample,
    import_csv,
    import_dbn,
    import_symbology,
    list_mappings,
    preview_bars,
)
from tradecore.ui import common


def _named(upload) -> io.BytesIO:
    """The upload's bytes under its file name, so messages say which file was refused."""
    buffer = io.BytesIO(upload.getvalue())
    buffer.name = upload.name
    return buffer


TIME_UNITS = {"auto": None, "seconds": "s", "milliseconds": "ms", "microseconds": "us",
              "nanoseconds": "ns"}

common.page_setup()
st.title("Data")

flash = st.session_state.pop("data.flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

secmaster = paths.secmaster_path()
held = common.instruments()

st.subheader("Security master")
if held.empty:
    st.warning("No bars yet: import a file below or rebuild the sample.")
else:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Symbols", held["symbol"].nunique())
    m2.metric("Series", len(held), help="One per symbol, source and bar period")
    m3.metric("Bars", f"{int(held['bar_count'].sum()):,}")
    m4.metric("Sources", held[["publisher", "dataset"]].drop_duplicates().shape[0])
    st.dataframe(
        held[["symbol", "bar_period", "publisher", "dataset", "symbol_type", "first_ts",
              "last_ts", "bar_count"]],
        hide_index=True, width="stretch", key="data.instruments",
        column_config={
            "symbol": "Symbol", "bar_period": "Period", "publisher": "Publisher",
            "dataset": "Dataset", "symbol_type": "Symbol type",
            "first_ts": st.column_config.DatetimeColumn("First bar (UTC)",
                                                        format="YYYY-MM-DD HH:mm"),
            "last_ts": st.column_config.DatetimeColumn("Last bar (UTC)",
                                                       format="YYYY-MM-DD HH:mm"),
            "bar_count": st.column_config.NumberColumn("Bars", format="localized"),
        },
    )
    st.caption(f"`{secmaster}`")
    mappings = list_mappings(secmaster)
    if not mappings.empty:
        st.markdown("**Rolling symbols** (symbology: which instrument a symbol means, by date)")
        st.dataframe(mappings.drop(columns=["instrument_id"]), hide_index=True, width="stretch",
                     key="data.mappings",
                     column_config={"start_date": "From", "end_date": "Until (exclusive)"})

    st.subheader("Price preview")
    p1, p2, p3, p4 = st.columns([2, 2, 2, 2])
    symbol = p1.selectbox("Symbol", sorted(held["symbol"].unique()), key="data.preview_symbol")
    series = held[held["symbol"] == symbol]
    periods = list(dict.fromkeys(series["bar_period"]))
    period = p2.selectbox("Period", periods, key=f"data.preview_period.{symbol}",
                          index=periods.index("DAY") if "DAY" in periods else 0)
    sources = series[series["bar_period"] == period]
    source = p3.selectbox("Source", [f"{r.publisher}/{r.dataset}" for r in sources.itertuples()],
                          key=f"data.preview_source.{symbol}.{period}")
    count = p4.select_slider("Bars", [100, 250, 500, 1000, 2000], value=250,
                             key="data.preview_count", help="The most recent bars")
    publisher, dataset = source.split("/", 1)
    bars = preview_bars(secmaster, symbol, period, count, last=True, publisher_name=publisher,
                        dataset=dataset)
    st.altair_chart(common.price_preview_chart(bars), key="data.preview_chart")

st.subheader("Import")
csv_tab, dbn_tab, symbology_tab, sample_tab = st.tabs(
    ["CSV file", "Databento DBN", "Symbology", "Sample data"])

with csv_tab:
    st.markdown(
        "Any CSV with a time column (`date`, `datetime`, `time`, `timestamp`, `ts_event`, a "
        "`date` + `time` pair or the unnamed first one) and `open, high, low, close, volume` "
        "(or `o/h/l/c/v`, `open_price`, `vol` ...) in any case. Times without a zone are UTC "
        "unless you give their time zone. Bars already stored are skipped; bars that differ "
        "from stored ones are refused unless you tick *Replace*; a file with any bad row, or "
        "whose bar spacing does not fit the period, is refused as a whole.")
    upload = st.file_uploader("CSV file", type=["csv", "txt"], key="data.csv_file")
    c1, c2, c3, c4 = st.columns(4)
    default_symbol = Path(upload.name).stem.upper() if upload is not None else ""
    csv_symbol = c1.text_input("Symbol", key="data.csv_symbol",
                               placeholder=default_symbol or "from the file name")
    csv_period = c2.selectbox("Bar period", list(BarPeriod), index=list(BarPeriod).index(
        BarPeriod.DAY), format_func=lambda p: p.name, key="data.csv_period")
    csv_publisher = c3.text_input("Publisher", value="local", key="data.csv_publisher")
    csv_dataset = c4.text_input("Dataset", value="csv", key="data.csv_dataset")
    t1, t2, t3, t4 = st.columns(4)
    date_format = t1.text_input(
        "Date format", key="data.csv_date_format", placeholder="detected, e.g. %d/%m/%Y",
        help="strptime layout for dates that are not ISO 8601, e.g. %d/%m/%Y (day first) "
             "or %m/%d/%Y %H:%M (month first)")
    time_zone = t2.text_input(
        "Time zone", key="data.csv_tz", placeholder="UTC",
        help="IANA name (e.g. America/New_York) of times written without a zone")
    time_unit = t3.selectbox("Epoch unit", list(TIME_UNITS), key="data.csv_time_unit",
                             help="For numeric Unix times; auto tells it from their size")
    replace = t4.checkbox("Replace conflicting bars", key="data.csv_replace",
                          help="Overwrite stored bars whose values differ from the file's")
    if st.button("Import CSV", type="primary", key="data.csv_import", disabled=upload is None):
        bar = st.progress(0.0, text="Reading...")
        try:
            summary = import_csv(
                secmaster, _named(upload), csv_symbol or default_symbol, csv_period,
                publisher=csv_publisher.strip() or "local", dataset=csv_dataset.strip() or "csv",
                date_format=date_format.strip() or None, tz=time_zone.strip() or None,
                time_unit=TIME_UNITS[time_unit], replace=replace,
                on_progress=lambda done, stage: bar.progress(min(done, 1.0),
                                                             text=stage.capitalize() + "..."))
        except ValueError as error:  # SecmasterError: the message names row, column and fix
            bar.empty()
            st.error(f"Nothing imported: {error}", icon=":material/error:")
        else:
            st.session_state["data.flash"] = common.sentence(str(summary))
            st.rerun()

with dbn_tab:
    st.markdown(
        "Databento OHLCV files (`ohlcv-1s/1m/1h/1d`, `.dbn` or `.dbn.zst`). The bar period "
        "comes from the schema, symbols from the file's symbology; name the symbol when the "
        "file carries none.")
    dbn_upload = st.file_uploader("DBN file", type=["dbn", "zst"], key="data.dbn_file")
    dbn_symbol = st.text_input("Symbol (optional)", key="data.dbn_symbol")
    dbn_replace = st.checkbox("Replace conflicting bars", key="data.dbn_replace")
    if st.button("Import DBN", type="primary", key="data.dbn_import",
                 disabled=dbn_upload is None):
        try:
            summaries = import_dbn(secmaster, dbn_upload.getvalue(),
                                   dbn_symbol.strip() or None, replace=dbn_replace)
        except ValueError as error:
            st.error(f"Nothing imported: {error}", icon=":material/error:")
        else:
            st.session_state["data.flash"] = common.sentence("; ".join(map(str, summaries)))
            st.rerun()

with symbology_tab:
    st.markdown(
        "Make a symbol follow different instruments over time (a continuous futures contract "
        "rolling from `ESH4` to `ESM4`). Import each contract's bars first, then a CSV of "
        "`symbol,instrument,start_date,end_date` (ISO dates, end exclusive, empty end = open). "
        "A file replaces the whole mapping of the symbols it names; backtests on the symbol "
        "replay each date from its mapped instrument and record which one.")
    mapping_upload = st.file_uploader("Symbology CSV", type=["csv", "txt"],
                                      key="data.symbology_file")
    s1, s2 = st.columns(2)
    mapping_publisher = s1.text_input("Publisher of the instruments", value="local",
                                      key="data.symbology_publisher")
    mapping_dataset = s2.text_input("Dataset of the instruments", value="csv",
                                    key="data.symbology_dataset")
    if st.button("Import symbology", type="primary", key="data.symbology_import",
                 disabled=mapping_upload is None):
        try:
            mapped = import_symbology(secmaster, _named(mapping_upload),
                                      publisher=mapping_publisher.strip() or "local",
                                      dataset=mapping_dataset.strip() or "csv")
        except ValueError as error:
            st.error(f"Nothing imported: {error}", icon=":material/error:")
        else:
            st.session_state["data.flash"] = common.sentence(str(mapped))
            st.rerun()

with sample_tab:
    st.markdown(
        "The bundled synthetic sample (ACME, GLOBX, INITECH, UMBRL, WAYNE; daily bars "
        "2015-2024, minute bars for three of them in Q4 2024). Rebuilding replaces only the "
        "sample's own bars; imported data stays.")
    if st.button("Rebuild sample", icon=":material/refresh:", key="data.rebuild_sample"):
        with st.spinner("Building the sample..."):
            built = build_sample(secmaster)
        st.session_state["data.flash"] = (f"Rebuilt the sample: {len(built)} series, "
                                          f"{sum(s.rows for s in built):,} bars.")
        st.rerun()
