"""Data: what the secmaster holds, a price preview, and importing CSV or Databento files."""

from pathlib import Path

import streamlit as st

from tradecore import paths
from tradecore.models import BarPeriod
from tradecore.secmaster import build_sample, import_csv, import_dbn, preview_bars
from tradecore.ui import common

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
csv_tab, dbn_tab, sample_tab = st.tabs(["CSV file", "Databento DBN", "Sample data"])

with csv_tab:
    st.markdown(
        "Any CSV with a time column (`date`, `datetime`, `time`, `timestamp`, `ts_event` or the "
        "unnamed first one) and `open, high, low, close, volume` in any case. Times without a "
        "zone are UTC. Bars at timestamps already stored are replaced; a file with any bad row "
        "is refused as a whole.")
    upload = st.file_uploader("CSV file", type=["csv", "txt"], key="data.csv_file")
    c1, c2, c3, c4 = st.columns(4)
    default_symbol = Path(upload.name).stem.upper() if upload is not None else ""
    csv_symbol = c1.text_input("Symbol", key="data.csv_symbol",
                               placeholder=default_symbol or "from the file name")
    csv_period = c2.selectbox("Bar period", list(BarPeriod), index=list(BarPeriod).index(
        BarPeriod.DAY), format_func=lambda p: p.name, key="data.csv_period")
    csv_publisher = c3.text_input("Publisher", value="local", key="data.csv_publisher")
    csv_dataset = c4.text_input("Dataset", value="csv", key="data.csv_dataset")
    if st.button("Import CSV", type="primary", key="data.csv_import", disabled=upload is None):
        try:
            summary = import_csv(secmaster, upload.getvalue(), csv_symbol or default_symbol,
                                 csv_period, publisher=csv_publisher.strip() or "local",
                                 dataset=csv_dataset.strip() or "csv")
        except ValueError as error:  # SecmasterError: the message names row and column
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
    if st.button("Import DBN", type="primary", key="data.dbn_import",
                 disabled=dbn_upload is None):
        try:
            summaries = import_dbn(secmaster, dbn_upload.getvalue(),
                                   dbn_symbol.strip() or None)
        except ValueError as error:
            st.error(f"Nothing imported: {error}", icon=":material/error:")
        else:
            st.session_state["data.flash"] = common.sentence("; ".join(map(str, summaries)))
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
