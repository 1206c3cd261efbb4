# curve.gp: draw bench.py's curve scenario as SVG.
#
#   gnuplot -e "data='OUT/curve.dat'; out='OUT/curve.svg'" bench/curve.gp
#
# data: a header line "clients SYSTEM...", then one line per number of
# clients with each system's requests/s (NaN where a run gave nothing:
# the line breaks there).
# Optional: heading (the title), columns (1 + the number of systems;
# counted from the header line if not given).
# x: clients, log scale; y: requests/s; one line with points per system.

if (!exists("data")) data = "curve.dat"
if (!exists("out")) out = "curve.svg"
if (!exists("heading")) heading = "requests/s by number of clients"
if (!exists("columns")) columns = int(system("head -n 1 '" . data . "' | wc -w"))

set terminal svg size 960,600 dynamic noenhanced font "sans,13"
set output out
set title heading
set key autotitle columnheader
set key outside right top box
set logscale x 10
set xrange [0.8:2600]
set xtics ("1" 1, "10" 10, "50" 50, "200" 200, "500" 500, "2000" 2000)
set xlabel "clients (wrk connections, log scale)"
set yrange [0:*]
set ylabel "requests/s (2xx)"
set format y "%.0f"
set grid xtics ytics
plot for [i=2:columns] data using 1:i with linespoints lw 2 pt 7 ps 0.8
