program GradeBook;

{ Reads student scores, computes statistics and prints a report. }

uses
  SysUtils;

const
  MaxStudents = 50;
  PassMark = 55.0;

type
  TGrade = (gA, gB, gC, gD, gF);

  TStudent = record
    Name: string;
    Score: Real;
    Grade: TGrade;
  end;

  TStudentList = array[1..MaxStudents] of TStudent;

var
  Students: TStudentList;
  Count, I: Integer;
  Total, Average: Real;

function GradeFor(Score: Real): TGrade;
begin
  if Score >= 90 then
    GradeFor := gA
  else if Score >= 75 then
    GradeFor := gB
  else if Score >= 60 then
    GradeFor := gC
  else if Score >= PassMark then
    GradeFor := gD
  else
    GradeFor := gF;
end;

function GradeName(G: TGrade): Char;
begin
  case G of
    gA: GradeName := 'A';
    gB: GradeName := 'B';
    gC: GradeName := 'C';
    gD: GradeName := 'D';
  else
    GradeName := 'F';
  end;
end;

procedure AddStudent(var List: TStudentList; var N: Integer; const AName: string; AScore: Real);
begin
  if N >= MaxStudents then
    raise Exception.Create('Too many students');
  Inc(N);
  List[N].Name := AName;
  List[N].Score := AScore;
  List[N].Grade := GradeFor(AScore);
end;

begin
  Count := 0;
  try
    AddStudent(Students, Count, 'Alice', 92.5);
    AddStudent(Students, Count, 'Bob', 71.0);
    AddStudent(Students, Count, 'Chandra', 58.25);
    AddStudent(Students, Count, 'Dmitri', 43.0);
  except
    on E: Exception do
      WriteLn('Error: ', E.Message);
  end;

  Total := 0;
  for I := 1 to Count do
  begin
    Total := Total + Students[I].Score;
    WriteLn(Format('%-10s %6.2f  %s', [Students[I].Name, Students[I].Score, GradeName(Students[I].Grade)]));
  end;

  if Count > 0 then
  begin
    Average := Total / Count;
    WriteLn('Average: ', Average:0:2);
  end;

  I := Count;
  while (I > 0) and (Students[I].Score < PassMark) do
    Dec(I);
  WriteLn('Last passing student index: ', I);
end.
